"""Where in a message a product is mentioned: the run of words its name holds, how far the
mention stretches, and the neighbouring words that say the message names something else."""

from __future__ import annotations

import re

from catalog.text import Token, has_digit, stopwords, words
from service.answering.catalog_view import CatalogView

_MAX_NAME_GAP = 2  # stopwords a mention may bridge to more words of the same name
# Punctuation that ends a mention: "Silver: 3.47" is a figure after the name, while in
# 'iPhone 27' or '1/4" stereo adapters' the number belongs to the phrase.
_SEPARATOR = re.compile(r"[:;,.!?()\[\]]")


def is_stop(word: str) -> bool:
    return word in stopwords() and not has_digit(word)


def best_cluster(every: list[Token], name: frozenset[str], view: CatalogView) -> list[Token]:
    """The run of consecutive message words that the product's name holds, heaviest by IDF:
    one product is named in one place ("Apple iPhone 6s and the Samsung Galaxy S7" is two
    mentions, not one accessory that fits both). A word the name lacks, stopwords included,
    ends a run; stopwords weigh nothing."""
    best: list[Token] = []
    best_mass = 0.0
    run: list[Token] = []
    for token in [*every, None]:
        if token is not None and token.stem in name:
            run.append(token)
            continue
        content = [item for item in run if not is_stop(item.stem)]
        mass = sum(view.word_idf(item.stem) for item in content)
        if content and mass > best_mass:
            best, best_mass = content, mass
        run = []
    return best


def name_end(every: list[Token], cluster: list[Token], name: frozenset[str]) -> int:
    """Where the mention ends: the run, stretched over stopwords to more words of the same
    name ("the Robin 32GB in Mint" is one mention), so no word of the name is left to be read
    as a question or a constraint."""
    index = {token.start: i for i, token in enumerate(every)}
    end = cluster[-1].end
    gap = 0
    for token in every[index[cluster[-1].start] + 1 :]:
        if is_stop(token.stem) and token.stem not in name:
            gap += 1
            if gap > _MAX_NAME_GAP:
                break
        elif token.stem in name:
            end, gap = token.end, 0
        else:
            break
    return end


def contradicted(
    message: str, every: list[Token], cluster: list[Token], name: frozenset[str]
) -> bool:
    """A number the shopper wrote right next to the named words that the name lacks
    ("iPhone 27" is not the iPhone X); punctuation between ends the name ("Silver: 3.47")."""
    index = {token.start: i for i, token in enumerate(every)}
    low, high = index[cluster[0].start], index[cluster[-1].start]
    for i in (low - 1, high + 1):
        if not 0 <= i < len(every) or not has_digit(every[i].stem) or every[i].stem in name:
            continue
        start, end = (
            (every[i].end, cluster[0].start) if i < low else (cluster[-1].end, every[i].start)
        )
        if not _SEPARATOR.search(message[start:end]):
            return True
    return False


def strange_neighbour(
    every: list[Token], token: Token, view: CatalogView, *, before_only: bool = False
) -> bool:
    """A content word right before (or after) the one named word that no text of the catalog
    holds: the shopper names something else that shares one word with this product."""
    position = next(i for i, item in enumerate(every) if item.start == token.start)
    for i in (position - 1,) if before_only else (position - 1, position + 1):
        if not 0 <= i < len(every):
            continue
        neighbour = every[i]
        if is_stop(neighbour.stem) or neighbour.stem.isdigit():
            continue
        if not view.knows_word(neighbour.stem) and not view.knows_word(neighbour.text):
            return True
    return False


def begins_another(every: list[Token], token: Token, product_id: str, view: CatalogView) -> bool:
    """The word and the one after it begin another product's title ("Apple Watch Series 4")."""
    position = next(i for i, item in enumerate(every) if item.start == token.start)
    if position + 1 >= len(every):
        return False
    pair = [token.stem, every[position + 1].stem]
    holders = view.title_index.get(pair[0], set()) & view.title_index.get(pair[1], set())
    return any(words(view.products[pid].title)[:2] == pair for pid in holders if pid != product_id)
