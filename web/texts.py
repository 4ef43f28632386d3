"""Every text the web page's server says, in Brazilian Portuguese, in one place.

The wording follows the bot's (handlers/texts.py: same reasons, same tone, same emojis); only what differs on a
page differs ("escolha uma foto" instead of "envie como foto"). The page's own labels are in web/static/.
"""

from __future__ import annotations

from app.wording import KIND_NAMES as KIND_NAMES  # the page's story choices are the bot's (/estilo, /tamanho)
from app.wording import LENGTH_BUTTONS as LENGTH_BUTTONS
from app.wording import megabytes

INVALID_IMAGE = {
    "empty": "O arquivo chegou vazio. 🤔 Pode escolher a foto de novo?",
    "not_image": "Isso não parece ser uma imagem. 🙈 Escolha uma foto em JPEG, PNG ou WebP.",
    "corrupt": "Não consegui abrir essa imagem: o arquivo parece corrompido. 🧩 Pode escolher outra?",
    "unsupported_format": (
        "Esse formato de imagem eu não leio (ex.: HEIC, TIFF). 🙈 Escolha uma foto em JPEG, PNG ou WebP."
    ),
    "too_large": "Essa imagem é grande demais para mim (máximo {max_mb} MB). 📦 Escolha uma foto menor.",
    "too_many_pixels": "Essa imagem tem pixels demais para eu processar. 🐘 Envie uma versão menor.",
}
NO_PHOTO = "Nenhuma foto chegou. 📷 Escolha uma foto (campo “photo” de um formulário multipart) e envie de novo."
FETCH_FAILED = "Não consegui ler a foto. 📡 Tente enviar de novo em instantes."

BUSY = "Estou com muito movimento agora: {waiting} histórias na fila. 🙏 Tente em instantes, por favor."
IP_LIMIT = "Você já tem histórias na fila. ⏳ Espere elas ficarem prontas e mande a próxima."
IP_PER_MINUTE = "Muitas histórias em pouco tempo. ⏳ Espere um minutinho e tente de novo."
MEMORY_FULL = "Estou guardando fotos demais agora. 🙏 Tente em alguns minutos, por favor."
SHUTTING_DOWN = "Estou reiniciando. 🔄 Mande a foto de novo em um minuto, por favor."

STATUS_QUEUED = "⏳ Na fila: você é o nº {position}. Já já chega a sua vez!"
STATUS = {
    "decode": "📥 Recebendo a foto…",
    "caption": "🔎 Olhando a foto…",
    "story": "✍️ Escrevendo a história…",
    "speech": "🎙️ Gravando a narração…",
}

STAGE_FAILED = {
    "story": "😔 Desculpe, não consegui escrever a história desta vez. Envie a foto outra vez e eu tento de novo.",
    "speech": "😔 Desculpe, a narração falhou desta vez — mas a história está aí em cima.",
    "translate_caption": "(Não consegui traduzir a legenda; segue em inglês.)",
    "translate_story": "(Não consegui traduzir a história; segue em inglês.)",
}
PIPELINE_FAILED = "😔 Desculpe, não consegui olhar essa foto agora. Tente de novo em instantes."
ERROR = "😔 Ops, algo deu errado do meu lado. Já anotei o problema (código {request_id})."

NOT_FOUND = "Essa história não existe ou já expirou (elas ficam guardadas por {minutes} minutos). 🗂️"
VOICE_NOT_READY = "A narração dessa história ainda não está pronta (ou falhou). ⏳"
PAGE_NOT_FOUND = "Página não encontrada. 🧭"
METHOD_NOT_ALLOWED = "Esse endereço não aceita esse tipo de pedido ({method}). 🚫"
BAD_REQUEST = "Pedido inválido. 🤔 Envie a foto num formulário multipart (campo “photo”)."
BAD_VOICE = "Idioma da narração desconhecido: use “pt” ou “en”."
BAD_KIND = "Estilo de história desconhecido: use {choices}."
BAD_LENGTH = "Tamanho de história desconhecido: use {choices}."
BAD_JSON = "Pedido inválido. 🤔 Envie um objeto JSON com os campos do pedido (ex.: “kind”, “hint”)."

# The user's own words (fields `hint` and `main_character`), refused by pipeline.names.words_problem.
WORDS_TOO_LONG = {
    "hint": (
        "O texto sobre a foto pode ter até {max_chars} caracteres: ✂️ escreva só quem está nela e onde "
        "(ex.: “minha filha Iara em Gramado”)."
    ),
    "main_character": (
        "A descrição do personagem principal pode ter até {max_chars} caracteres: ✂️ basta o nome e quem é "
        "(ex.: “Thor, nosso cachorro”)."
    ),
}
WORDS_UNSUITABLE = {
    "hint": (
        "🙈 Desculpe, não posso usar as palavras sobre a foto: minhas histórias são para crianças. "
        "Pode escrever de outro jeito?"
    ),
    "main_character": (
        "🙈 Desculpe, não posso usar esse personagem principal: minhas histórias são para crianças. "
        "Pode escrever de outro jeito?"
    ),
}


def invalid_image(reason: str, max_bytes: int) -> str:
    """The Portuguese explanation of why a file is not a usable photo (the bot's `invalid_image_text`)."""
    return INVALID_IMAGE.get(reason, INVALID_IMAGE["not_image"]).format(max_mb=megabytes(max_bytes))
