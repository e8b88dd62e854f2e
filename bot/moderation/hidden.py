"""Hidden HTML is not text: what a reader never sees is removed before a body is read, so it can neither
pad a copied text nor split it (README: "Hidden HTML is not text")."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

# Inline styles (and <style> rules) that leave an element's text on the page but unseen by a reader.
_ZERO = r"(?:0+(?:\.0*)?|\.0+)(?:[a-z]+|%)?\s*(?:;|$|!)"
_HIDING = re.compile(
    rf"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|opacity\s*:\s*{_ZERO}"
    rf"|font-size\s*:\s*{_ZERO}|color\s*:\s*transparent|(?:left|top|text-indent)\s*:\s*-\d{{4,}})",
    re.IGNORECASE,
)
_ZERO_BOX = re.compile(rf"(?:^|;)\s*(?:max-)?(?:height|width)\s*:\s*{_ZERO}", re.IGNORECASE)
_CLIPPED = re.compile(r"(?:^|;)\s*overflow\s*:\s*(?:hidden|clip)", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_HIDDEN_ELEMENTS = "template, [hidden], [aria-hidden=true i]"
_DOOMED = "data-alignbot-hidden"


def _hides(declarations: str) -> bool:
    style = " ".join(_CSS_COMMENT.sub("", declarations).split())
    return bool(_HIDING.search(style) or (_ZERO_BOX.search(style) and _CLIPPED.search(style)))


def remove_hidden(tree: LexborHTMLParser) -> None:
    """Drop what a reader never sees, so it can neither pad nor split the visible text.

    Hidden attributes (`hidden`, `aria-hidden`), `<template>`, and elements hidden by their inline style
    or by a rule in a `<style>` element (display:none, visibility:hidden, zero font size or opacity,
    transparent text, a zero-size box with its overflow clipped, pushed off-screen); script and style.
    """
    doomed = list(tree.css(_HIDDEN_ELEMENTS))
    doomed += [node for node in tree.css("[style]") if _hides(node.attributes.get("style") or "")]
    for style in tree.css("style"):
        for selectors, declarations in _CSS_RULE.findall(_CSS_COMMENT.sub("", style.text(deep=True))):
            if not _hides(declarations):
                continue
            for selector in selectors.split(","):
                try:
                    doomed += tree.css(selector.strip())
                except ValueError:  # a selector lexbor cannot parse selects nothing
                    continue
    doomed += tree.css("script, style, noscript")  # the walker skips them as blocks, not inside a paragraph
    for node in doomed:
        node.attrs[_DOOMED] = ""
    # Marked, then selected once: document order, each node once. Removed last to first, so a descendant
    # goes before its ancestor (removing the ancestor first would free the descendant under our feet).
    for node in reversed(tree.css(f"[{_DOOMED}]")):
        node.decompose()
