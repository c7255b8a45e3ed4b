"""PocketSphinx decoders as the engine pools them: how each is configured, and the grammar
searches compiled into it."""
from __future__ import annotations

from collections import OrderedDict

import pocketsphinx

from app.speech.jsgf import GARBAGE_PREFIX, PHONES

# Grammar words CMUdict lacks, said letter by letter ("what's the E.T.A."): without them the
# phrases with them were left out and a warning greeted every start.
SPELLED_WORDS = {"eta": "IY T IY EY"}
# Where live cepstral mean normalisation settles on real telephone speech through our path
# (8 kHz μ-law, upsampled): its mean over 230 recordings of many speakers (AN4, Speech Commands,
# FSDD). The model's own start (40,3,-1,0...) is a 16 kHz studio mean: from it, 7 of 12 AN4
# order numbers were right; carried over between calls, results depended on the last caller.
TELEPHONE_CMN = "49.93,7.33,-3.27,5.31,-4.17,-2.42,-7.98,-1.26,-3.57,0.88,-4.26,-0.44,-0.83"
_CONFIG = dict(
    loglevel="FATAL",
    # Lattice best-path rescoring swapped correct grammar paths for partial ones (42 vs 52 of 60).
    bestpath=False,
)
# Wider beams for grammar searches: long phrases ("my order number is three zero five one two")
# fell out of the default beams and came back empty. Searches read the beams when they are
# created, so these are set after the free language-model search exists: it keeps the default
# beams (with these it cost 0.76 CPU seconds per audio second instead of 0.26).
_GRAMMAR_BEAMS = dict(beam=1e-80, wbeam=1e-60, pbeam=1e-80)
SEARCHES_KEPT = 16        # compiled grammar searches per decoder (one per dialog state)


GRAMMAR, FREE, DOMAIN = "grammar", "free", "domain"    # what a pooled decoder can search


class Slot:
    """A decoder plus the grammar searches already compiled into it."""

    def __init__(self, decoder: "pocketsphinx.Decoder", kind: str) -> None:
        self.decoder = decoder
        self.kind = kind                          # GRAMMAR, FREE (messages) or DOMAIN (sentences)
        self.lm_search = decoder.current_search() if kind != GRAMMAR else ""
        self.searches: OrderedDict[str, None] = OrderedDict()
        self.in_utterance = False

    def start(self) -> None:
        """Begin an utterance from the telephone line's cepstral mean, not the last caller's.

        Pooled decoders carry the mean they learned on whatever they decoded last (another
        call, another line): the same "no" was heard as "bill" after some histories and not
        after others. Every utterance now starts alike (see TELEPHONE_CMN)."""
        self.decoder.set_cmn(TELEPHONE_CMN)
        self.decoder.start_utt()
        self.in_utterance = True

    def activate(self, grammar: tuple[str, str] | None) -> None:
        """Switch to a grammar search, (name, JSGF text), compiling it once; None = the LM search."""
        if grammar is None:
            self.decoder.activate_search(self.lm_search)
            return
        name, jsgf = grammar
        if name not in self.searches:
            self.decoder.add_jsgf_string(name, jsgf)
            self.searches[name] = None
            while len(self.searches) > SEARCHES_KEPT:   # one per dialog state: keep the recent ones
                self.decoder.remove_search(self.searches.popitem(last=False)[0])
        self.searches.move_to_end(name)
        self.decoder.activate_search(name)


def new_slot(kind: str, domain_lm: str | None = None) -> Slot:
    """A configured decoder of that kind (DOMAIN searches the language model at `domain_lm`)."""
    if kind == GRAMMAR:
        decoder = pocketsphinx.Decoder(lm=None, **_CONFIG)
    elif kind == DOMAIN:
        decoder = pocketsphinx.Decoder(lm=domain_lm, **_CONFIG)
    else:
        decoder = pocketsphinx.Decoder(**_CONFIG)
    for phone in PHONES:
        decoder.add_word(GARBAGE_PREFIX + phone.lower(), phone, False)
    for word, phones in SPELLED_WORDS.items():
        decoder.add_word(word, phones, False)
    # Never matched in practice (20 phones); only there to carry the garbage penalty weight.
    decoder.add_word(GARBAGE_PREFIX + "void", " ".join(PHONES[:20]), True)
    for name, value in _GRAMMAR_BEAMS.items():
        decoder.config[name] = value
    return Slot(decoder, kind)
