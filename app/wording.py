"""Portuguese words both front ends say, in one place: the bot (handlers/texts.py) and the web page (web/texts.py)
name the kinds and lengths of story alike, show the same progress, and explain the same refusals and failures
with the same sentences. Each front end keeps only what it says its own way (Telegram's commands and buttons,
the page's form fields); app/failures.py picks the sentence for an error that ended a story.

A sentence with a {placeholder} is a template: its front end formats it.
"""

from __future__ import annotations

__all__ = [
    "ERROR",
    "FETCH_FAILED",
    "INVALID_IMAGE",
    "KIND_NAMES",
    "LENGTH_BUTTONS",
    "PIPELINE_FAILED",
    "SHUTTING_DOWN",
    "STAGE_FAILED",
    "STATUS",
    "STATUS_QUEUED",
    "USER_LIMIT",
    "WORDS_UNSUITABLE",
    "megabytes",
]

KIND_NAMES: dict[str, str] = {  # by StoryKind, in its order
    "classic": "Clássica",
    "bedtime": "Para dormir",
    "adventure": "Aventura",
    "fable": "Fábula",
    "mystery": "Mistério",
    "funny": "Engraçada",
    "poem": "Poema",
}
LENGTH_BUTTONS: dict[str, str] = {  # by StoryLength, in its order
    "short": "Curta (~60 palavras)",
    "medium": "Média (~120)",
    "long": "Longa (~200)",
}

STATUS_QUEUED = "⏳ Na fila: você é o nº {position}. Já já chega a sua vez!"
STATUS: dict[str, str] = {  # by Stage: what is being done now
    "decode": "📥 Recebendo a foto…",
    "caption": "🔎 Olhando a foto…",
    "story": "✍️ Escrevendo a história…",
    "speech": "🎙️ Gravando a narração…",
}

USER_LIMIT = "Você já tem histórias na fila. ⏳ Espere elas ficarem prontas e mande a próxima."
SHUTTING_DOWN = "Estou reiniciando. 🔄 Mande a foto de novo em um minuto, por favor."

INVALID_IMAGE: dict[str, str] = {  # by InvalidImageError.reason; {max_mb}: the limit, see `megabytes`
    "empty": "O arquivo chegou vazio. 🤔 Pode enviar a foto de novo?",
    "not_image": "Isso não parece ser uma imagem. 🙈 Envie uma foto em JPEG, PNG ou WebP.",
    "corrupt": "Não consegui abrir essa imagem: o arquivo parece corrompido. 🧩 Pode enviar outra?",
    "unsupported_format": (
        "Esse formato de imagem eu não leio (ex.: HEIC, TIFF). 🙈 Envie uma foto em JPEG, PNG ou WebP."
    ),
    "too_large": "Essa imagem é grande demais para mim (máximo {max_mb} MB). 📦 Envie uma foto menor.",
    "too_many_pixels": "Essa imagem tem pixels demais para eu processar. 🐘 Envie uma versão menor.",
}
FETCH_FAILED = "Não consegui ler a foto. 📡 Tente enviar de novo em instantes."
PIPELINE_FAILED = "😔 Desculpe, não consegui olhar essa foto agora. Tente de novo em instantes."
STAGE_FAILED: dict[str, str] = {  # by Stage: one part failed while the others still came
    "story": "😔 Desculpe, não consegui escrever a história desta vez. Envie a foto outra vez e eu tento de novo.",
    "speech": "😔 Desculpe, a narração falhou desta vez — mas a história está aí em cima.",
    "translate_caption": "(Não consegui traduzir a legenda; segue em inglês.)",
    "translate_story": "(Não consegui traduzir a história; segue em inglês.)",
}
ERROR = "😔 Ops, algo deu errado do meu lado. Já anotei o problema (código {request_id})."

# {words}: which of the user's own words (a photo's caption, /personagem; the page's fields) were refused.
WORDS_UNSUITABLE = (
    "🙈 Desculpe, não posso usar {words}: minhas histórias são para crianças. Pode escrever de outro jeito?"
)


def megabytes(size_bytes: int) -> str:
    """A size in MB as it is written in Brazil, without a useless decimal: "20", "0,2"."""
    return f"{size_bytes / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")
