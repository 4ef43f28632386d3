"""Performance benchmark of Conta-Histórias: `python -m bench` (or `make bench`).

What it measures, in one run: each pipeline stage warm on real photos, photo → voice end to end, the same
through the real bot against the fake Bot API (one photo at a time, then ten chats at once), cold start and
memory — and, as the yardstick, the original system's models (BLIP, GPT-2, VITS) with random weights on the
same CPU (same compute as the real ones, nothing downloaded). Results: a table on stdout and
bench/results.json. `--quick` is a fast smoke run whose numbers are not meant to be compared.
"""
