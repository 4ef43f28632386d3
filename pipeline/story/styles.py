"""What each kind of story asks of the model: its rules, a worked example, its first and last sentences, and the
word limits of each length.

A 135M model follows instructions loosely and examples closely, so every kind has its own worked example (about
the same photo, `EXAMPLE_FACTS`, with the same hero), written in the kind's shape: a bedtime story that ends in
sleep, a fable with animals and a moral, a poem in short rhyming lines. The story's first sentence is ours and
names the photo's subject; a kind that must end a certain way has last sentences too, which the llama backend
adds (a full sentence) or has the model complete (a sentence beginning, such as the fable's moral). "classic" is
the bot's original story. Imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.events import StoryKind, StoryLength
from pipeline.facts import PhotoFacts

EXAMPLE_FACTS = PhotoFacts(
    caption="an old bicycle leaning against a brick wall", subject="a bicycle", setting="outdoors", light="overcast"
)
EXAMPLE_HERO = "Lena"

# Words of each length; a poem has half as many (a short poem is a few lines, not 60 words of verse).
LENGTH_WORDS: Mapping[StoryLength, int] = {"short": 60, "medium": 120, "long": 200}


@dataclass(frozen=True)
class StoryStyle:
    """One kind of story, as the model is asked for it."""

    title: str  # what the story is, for a model that continues text (GPT-2): "a short story"
    system: str
    ask: str  # the request: {facts}, {hero} (who the hero is), {name} and {words} are filled in
    example: str  # the answer to the example's request
    things: tuple[str, ...]  # first sentences naming the {subject}, for a photo without people
    people: Mapping[int, tuple[str, ...]]  # first sentences by the number of people (1, 2, 3 for more)
    endings: tuple[str, ...] = ()  # last sentences; one without a final stop is completed by the model
    poem: bool = False  # short lines instead of sentences, and half the words
    hero: str = "a child named {name}"  # who the main character is, when the photo shows no people
    ending_mark: str = ""  # a word that shows the story has its ending already: then none of ours is added

    def hero_of(self, name: str, people: int) -> str:
        """Who the main character is: one of the people in the photo when it shows some, else the kind's hero."""
        if people and self.hero == StoryStyle.hero:
            return f"{name}, {'the person' if people == 1 else 'one of the people'} in the scene"
        return self.hero.format(name=name)

    @property
    def rules(self) -> str:
        """RULES for this kind: a story in prose, a poem in lines (told "as prose", a poem had two rules that
        disagree)."""
        if self.poem:
            return RULES.format(piece="poem", form="in short lines")
        return RULES.format(piece="story", form="as prose (not a script)")

    def word_limits(self, length: StoryLength) -> tuple[int, int, int]:
        """(least, aimed at, most) words of a story of this kind and length."""
        words = LENGTH_WORDS[length] // (2 if self.poem else 1)
        return words * 3 // 4, words, words * 4 // 3


# What a model that follows instructions (the quality tier, a chat model behind an OpenAI-compatible server) is told
# on top of each kind's rules, in place of the sentences of ours that the 135M model needs: it names the subject
# itself, keeps one hero, does not talk about the prompt, and ends the story within its length. `StoryStyle.rules`
# fills in the {piece} (a story or a poem) and its {form}.
RULES = (
    "Rules: the {piece} is for children from 4 to 10 years old: kind and gentle, with nothing violent, scary, sad or "
    "hurtful. Write only the {piece}, {form}, with no title and no notes, in simple English and short sentences. Call "
    "the main character by the given name, spelled the same way every time, and never rename anyone. Never "
    "mention a picture, a photo, an image, a scene description, the {piece} itself or these rules. Name the main "
    "subject early in the {piece}."
)


def _for_everyone(*openers: str) -> Mapping[int, tuple[str, ...]]:
    """The same first sentences whatever the number of people: {people} names them all."""
    return dict.fromkeys((1, 2, 3), openers)


CLASSIC = StoryStyle(
    title="a short story",
    system=(
        "You are a storyteller. You write short, warm stories for readers of all ages. "
        "Each story has a named main character, a small problem, and a happy ending."
    ),
    ask=(
        "Write a short story (about {words} words) inspired by this scene.\n{facts}\n"
        "The main character is {hero}. The story is about this scene."
    ),
    example=(
        "Every morning, Lena rode her grandfather's old green bicycle to the bakery at the end of the street. "
        "One rainy day, the chain snapped, and the bicycle rolled to a stop beside a brick wall. Lena sat on "
        "the curb, sure that the bread would be cold before she got home. Then the baker's son came out with "
        "a small box of tools. Together they fixed the chain, laughing every time their fingers slipped on the "
        "greasy links. When the bicycle was ready, he gave Lena a warm loaf for the road. From that day on, "
        "Lena always stopped to share her breakfast at the bakery, and the old bicycle never felt old again."
    ),
    things=(
        "It all began with {subject}.",
        "{hero} first noticed {subject} on an ordinary {daypart}.",
        "Nobody paid much attention to {subject}, except {hero}.",
        "The day {hero} found {subject}, everything changed.",
        "{hero} had always dreamed of {subject} like this one.",
        "On a quiet {daypart}, {hero} stopped in front of {subject}.",
        "Everyone in the village had a story about {subject}, and {hero} wanted one too.",
        "{hero} never expected {subject} to change a whole {daypart}.",
        "There it was: {subject}, exactly where {hero} had left it in a dream.",
        "Grandma always said that {subject} brings good luck, and {hero} was about to find out why.",
    ),
    people={
        1: (
            "{hero} smiled, because today was going to be special.",
            "Everyone in town knew {hero}.",
            "{hero} had a secret that nobody knew.",
            "{hero} woke up with a plan for the {daypart}.",
        ),
        2: (
            "{hero} and {friend} had been friends for as long as they could remember.",
            "{hero} and {friend} met on a {daypart} they would never forget.",
            "Nobody could make {hero} laugh like {friend} could.",
        ),
        3: (
            "{hero} and {friends} had a plan.",
            "The whole group was there, and {hero} was the last to arrive.",
            "When {hero} and {friends} got together, something always happened.",
        ),
    },
)

BEDTIME = StoryStyle(
    title="a calm bedtime story for a small child",
    system=(
        "You tell calm bedtime stories to small children. Your stories are gentle and slow, with soft, "
        "simple words, nothing scary, and they always end with the main character falling asleep."
    ),
    ask=(
        "Write a calm bedtime story for a small child (about {words} words) inspired by this scene.\n{facts}\n"
        "The main character is {hero}. The story is gentle and quiet, and it ends with {name} falling asleep."
    ),
    example=(
        "When the evening grew quiet, Lena leaned her old green bicycle against the brick wall. The clouds were "
        'soft and grey, like a big warm blanket over the town. "Good night, little bicycle," Lena whispered, '
        "patting its cool handlebars. The bicycle seemed to sigh a small, sleepy sigh. Lena walked home slowly, "
        "counting the lights in the windows: one, two, three. Her mother gave her a cup of warm milk and a kiss "
        "on the forehead. In bed, Lena listened to the gentle rain tapping on the roof. She thought of the "
        "bicycle resting by the wall, dreaming of sunny roads. Her eyes grew heavy, her breathing grew slow, "
        "and soon Lena was fast asleep."
    ),
    things=(
        "When the moon came up, {hero} said good night to {subject}.",
        "It was almost bedtime, and {hero} was thinking about {subject}.",
        "The stars were coming out, and {subject} was getting sleepy too.",
        "On a soft, quiet evening, {hero} sat down next to {subject}.",
    ),
    people=_for_everyone(
        "It was almost bedtime for {people}.",
        "The moon was up, and the day was nearly over for {people}.",
        "On a soft, quiet evening, {people} sat down to rest.",
    ),
    ending_mark="asleep",
    endings=(
        "{hero} gave a big, sleepy yawn, and soon {hero} was fast asleep.",  # "yawned" read "bocetou"
        "The night was quiet and warm, and soon {hero} was fast asleep, dreaming sweet dreams.",
        "Then {hero} closed both eyes, and soon {hero} was fast asleep.",
    ),
)

ADVENTURE = StoryStyle(
    title="an adventure story",
    system=(
        "You write exciting adventure stories for children: a journey, a danger met with courage, "
        "and a happy return home."
    ),
    ask=(
        "Write an adventure story (about {words} words) inspired by this scene.\n{facts}\n"
        "The main character is {hero}. There is a journey, a danger, and a brave, happy ending."
    ),
    example=(
        "Lena found the old green bicycle leaning against a brick wall, with a map tucked under its seat. The "
        "map showed a path through the hills to a hidden waterfall. Without waiting a second, Lena jumped on "
        "and pedalled out of town. The road turned into a bumpy trail, and dark clouds rolled over the hills. "
        "Halfway up, a fallen tree blocked the way. Lena lifted the bicycle over the trunk, one wheel at a "
        "time, her heart pounding. At last she heard the roar of water. The waterfall sparkled below the "
        "cliff, just like the map had promised. Lena laughed out loud, wet and muddy and happy. She rode home "
        "at sunset, already dreaming of the next map."
    ),
    things=(
        "{hero} had waited all year for an adventure, and it began with {subject}.",
        "The old map led {hero} straight to {subject}.",
        "Nobody believed {hero} that {subject} was the start of a great adventure.",
    ),
    people=_for_everyone(
        "The day of the great adventure had come for {people}.",
        "The map was old and torn, but {people} decided to follow it.",
    ),
)

FABLE = StoryStyle(
    title="a fable with talking animals",
    system=(
        "You write fables, like Aesop: talking animals, a simple lesson, and the moral of the fable "
        "in the last sentence."
    ),
    ask=(
        "Write a fable with talking animals (about {words} words) inspired by this scene.\n{facts}\n"
        "The main character is {hero}. End with the moral of the fable."
    ),
    example=(
        "A little mouse named Lena lived in a crack of an old brick wall, next to a green bicycle. Every day, "
        'a proud crow landed on the handlebars and laughed at her. "You are so small," said the crow. "You '
        "will never do anything important.\" One grey morning, the bicycle's chain got stuck, and its owner "
        "could not ride to the market. The crow only shrugged and flew away. But Lena crept into the gears, "
        "pulled out the twig that blocked the chain, and the wheels turned again. The owner smiled and left "
        "her a piece of cheese. The crow watched in silence from the roof. The moral of the story is that "
        "even the smallest friend can be a great help."
    ),
    things=(
        "Long ago, a clever fox named {hero} found {subject}.",
        "Once upon a time, a little rabbit named {hero} lived near {subject}.",
        "A wise old owl named {hero} had watched {subject} for many years.",
    ),
    people=_for_everyone(
        "Once upon a time, a little fox named {hero} watched {subject} from behind a tree.",
        "A curious squirrel named {hero} liked to watch {subject} from a high branch.",
    ),
    endings=("The moral of the story is that",),
    hero="an animal named {name}",
    ending_mark="moral",
)

MYSTERY = StoryStyle(
    title="a mystery story for children",
    system=(
        "You write gentle mysteries for children: something strange happens, the hero follows the clues, "
        "and the answer is a happy surprise."
    ),
    ask=(
        "Write a mystery story for children (about {words} words) inspired by this scene.\n{facts}\n"
        "The main character is {hero}. Something small goes missing or looks odd, {name} follows the clues, "
        "and the answer is a happy surprise."
    ),
    example=(
        "Every morning, Lena's green bicycle leaned against the same brick wall, but one grey morning its "
        "silver bell was gone. Lena looked under the bicycle and behind the flower pots. There were tiny "
        "tracks in the mud, leading around the corner. She followed them past the bakery, past the fountain, "
        "all the way to the old shed in the park. Inside, something shiny glittered in the dark. Lena held "
        "her breath and opened the door. A family of magpies sat in a nest, and in the middle lay her silver "
        "bell, next to a button, a key and a spoon. Lena laughed and let them keep it. From then on, her "
        "bicycle had a new bell, and the magpies sang along whenever it rang."
    ),
    things=(
        "Nobody knew who had left {subject} there, and {hero} wanted to find out.",
        "Something strange was going on with {subject}, and {hero} was the first to notice.",
        "{hero} looked at {subject} and knew at once that something was missing.",
    ),
    people=_for_everyone(
        "Something strange had happened, and {people} wanted to find out what.",
        "There was a mystery in town, and {people} had found the first clue.",
    ),
)

FUNNY = StoryStyle(
    title="a funny story for children",
    system=(
        "You write funny stories for children: silly surprises, playful jokes, and a happy ending "
        "that makes everyone laugh."
    ),
    ask=(
        "Write a funny story for children (about {words} words) inspired by this scene.\n{facts}\n"
        "The main character is {hero}. Something silly happens, and everyone laughs at the end."
    ),
    example=(
        "Lena's old green bicycle had one big problem: it loved to sneeze. Every time the wind blew, it went "
        '"A-choo!" and its bell rang all by itself. One grey morning, Lena leaned it against a brick wall '
        "outside the bakery. A cat walked by, the bicycle sneezed, and the cat jumped straight into a basket "
        "of bread. The baker came out with flour all over his nose, looking like a snowman. Then the baker "
        "sneezed too, and so did the cat. Soon the whole street was sneezing and laughing at the same time. "
        "From that day on, the baker kept a box of tissues by the wall, just for Lena's bicycle."
    ),
    things=(
        "Nobody believed {hero} that {subject} could talk.",
        "{hero} did not expect {subject} to start the silliest day of the year.",
        "It is not every day that {subject} gets the hiccups, but today it did.",
    ),
    people=_for_everyone(
        "{people} had the silliest idea in the whole town.",
        "Nobody could stop laughing on the day {people} tried to bake a cake.",
    ),
)

POEM = StoryStyle(
    title="a short poem for children",
    system="You are a poet. You write short, cheerful poems for children, in short lines that rhyme in pairs.",
    ask=(
        "Write a short poem for children (about {words} words, in short rhyming lines) inspired by this "
        "scene.\n{facts}\nThe poem is about {hero}."
    ),
    example=(
        "An old green bicycle by the wall,\nWaits for Lena, who is small.\nThe sky is grey, the bricks are red,\n"
        "The bakery smells of fresh warm bread.\nShe rings the bell, she rides away,\nAlong the street at break "
        "of day.\nAnd when the ride comes to an end,\nShe thanks her bicycle, her friend."
    ),
    things=("Look at {subject} over there,", "Here is {subject}, what a sight,", "I saw {subject} one {daypart},"),
    people=_for_everyone("Hooray for {people}, full of cheer,", "Here are {people}, side by side,"),
    poem=True,
)

STYLES: Mapping[StoryKind, StoryStyle] = {
    "classic": CLASSIC,
    "bedtime": BEDTIME,
    "adventure": ADVENTURE,
    "fable": FABLE,
    "mystery": MYSTERY,
    "funny": FUNNY,
    "poem": POEM,
}
