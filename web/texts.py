"""Every text the web page's server says, in Brazilian Portuguese, in one place.

What the bot says alike (progress, refusals, failures, story choices) lives in app/wording.py and is imported
here; only what a page says its own way is written below (its form fields, its limits per address). The page's
own labels are in web/static/.
"""

from __future__ import annotations

from app import wording
from app.wording import ERROR as ERROR
from app.wording import FETCH_FAILED as FETCH_FAILED
from app.wording import KIND_NAMES as KIND_NAMES  # the page's story choices are the bot's (/estilo, /tamanho)
from app.wording import LENGTH_BUTTONS as LENGTH_BUTTONS
from app.wording import PIPELINE_FAILED as PIPELINE_FAILED
from app.wording import SHUTTING_DOWN as SHUTTING_DOWN
from app.wording import STAGE_FAILED as STAGE_FAILED
from app.wording import STATUS as STATUS
from app.wording import STATUS_QUEUED as STATUS_QUEUED
from app.wording import USER_LIMIT as USER_LIMIT

NO_PHOTO = "Nenhuma foto chegou. 📷 Escolha uma foto (campo “photo” de um formulário multipart) e envie de novo."

BUSY = "Estou com muito movimento agora: {waiting} histórias na fila. 🙏 Tente em instantes, por favor."
IP_PER_MINUTE = "Muitas histórias em pouco tempo. ⏳ Espere um minutinho e tente de novo."
MEMORY_FULL = "Estou guardando fotos demais agora. 🙏 Tente em alguns minutos, por favor."

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
    "hint": wording.WORDS_UNSUITABLE.format(words="as palavras sobre a foto"),
    "main_character": wording.WORDS_UNSUITABLE.format(words="esse personagem principal"),
}
