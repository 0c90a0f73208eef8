"""The built-in demo corpus: 1000 short movie remarks in 3 classes, generated deterministically.

Sentences vary in length (about 3 to 20 words); the sentiment cue usually comes early, but
openers and tails push it around, and a few long sentences put it past a 10-token cut.
"""
from __future__ import annotations

import random

LABELS = ("positive", "negative", "neutral")

_SUBJECTS = ("this movie", "the film", "the story", "the acting", "the ending", "the soundtrack",
             "this show", "the cast", "the script", "the director's new film")
_INTENSIFIERS = ("", "", "really ", "truly ", "quite ", "so ", "very ")
_ADJECTIVES = {
    "positive": ("great", "wonderful", "brilliant", "excellent", "amazing", "delightful", "superb",
                 "moving", "fun", "beautiful", "good", "charming"),
    "negative": ("bad", "terrible", "awful", "boring", "dull", "horrible", "poor", "weak", "painful",
                 "disappointing", "stupid", "a mess"),
}
_VERBS = {
    "positive": ("love", "loved", "enjoyed", "adored", "liked", "recommend"),
    "negative": ("hate", "hated", "disliked", "regret watching", "could not stand", "walked out of"),
    "neutral": ("watched", "saw", "rented", "read about", "heard of", "bought a ticket for"),
}
_FACTS = ("is two hours long", "was released in may", "is based on a novel", "was shot in london",
          "is in french", "opens next week", "is about a family", "has three parts", "is in black and white",
          "runs on tuesday nights", "was made in 1998", "is set in a small town")
_OPENERS = ("", "", "", "honestly , ", "well , ", "i think ", "to be fair , ", "my friend said ",
            "after the long week , ")
_TAILS = ("", "", "", " .", " !", " and the popcorn was cold", " at the cinema downtown last friday",
          " with my sister", " on a rainy sunday afternoon", " , as far as i remember")


def _clause(rng: random.Random, label: str) -> str:
    subject = rng.choice(_SUBJECTS)
    if label == "neutral":
        if rng.random() < 0.5:
            return f"{subject} {rng.choice(_FACTS)}"
        return f"i {rng.choice(_VERBS['neutral'])} {subject}"
    if rng.random() < 0.5:
        verb = "is" if rng.random() < 0.5 else "was"
        return f"{subject} {verb} {rng.choice(_INTENSIFIERS)}{rng.choice(_ADJECTIVES[label])}"
    return f"i {rng.choice(_VERBS[label])} {subject}"


def demo_corpus(n: int = 1000, seed: int = 2024) -> tuple[list[str], list[str]]:
    """`n` (text, label) pairs, the same every time for the same seed, classes balanced."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = LABELS[i % len(LABELS)]
        sentence = rng.choice(_OPENERS) + _clause(rng, label) + rng.choice(_TAILS)
        texts.append(sentence[0].upper() + sentence[1:])
        labels.append(label)
    order = list(range(n))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]
