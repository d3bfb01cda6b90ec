"""The organization's channel service: HTTP app, tokens, uploads, promote/prune/restore, pages.

It uses publish.py (the same atomic placing and indexing as local builds), never the reverse.
"""
