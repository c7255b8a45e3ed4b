"""The words of the agent's whisper, in the agents' language (IVR_AGENT_LANG)."""
from __future__ import annotations

# Sentence frames of the whisper. English is what the whisper has always said.
FRAMES = {
    "en": {"about": ", about {want}.", "order": "Order {number}{status}.", "reason": "Reason: {why}.",
           "frustrated": "Sounds frustrated.", "said": 'Said: "{quote}".', "unknown": "Unknown caller",
           "withheld": "Caller number withheld", "speaks": "Caller speaks {language}.",
           "not_found": "order not found, number {number}", "tries": ", after {tries} tries",
           "incoming": "Incoming caller.", "page": " The call details are on your agent page.",
           "take": " Press 1 to take the call."},
    "fr": {"about": ", pour {want}.", "order": "Commande {number}{status}.", "reason": "Motif : {why}.",
           "frustrated": "Semble agacé.", "said": 'A dit : "{quote}".', "unknown": "Appelant inconnu",
           "withheld": "Numéro masqué", "speaks": "L'appelant parle {language}.",
           "not_found": "commande introuvable, numéro {number}", "tries": ", après {tries} essais",
           "incoming": "Appel entrant.", "page": " Le détail de l'appel est sur votre page conseiller.",
           "take": " Appuyez sur 1 pour prendre l'appel."},
}
# What the call is about, by task (English comes from the summary itself).
WANTS = {
    "fr": {"order_status": "le suivi d'une commande", "return_item": "un retour",
           "refund_status": "un remboursement", "cancel_order": "annuler une commande",
           "store_hours": "les horaires des magasins", "store_location": "l'adresse d'un magasin",
           "billing_issue": "un problème de facturation", "complaint": "une réclamation"},
}
# Why the bot handed over (the flow's reasons are English identifiers).
REASONS = {
    "fr": {"asked for a person": "demande un conseiller", "billing question": "question de facturation",
           "complaint": "réclamation", "silent twice": "silence deux fois",
           "not understood twice": "pas compris deux fois",
           "speech recognition failed": "reconnaissance vocale en panne",
           "technical problem": "problème technique", "storage unavailable": "problème technique",
           "order not found": "commande introuvable", "agent unavailable": "aucun conseiller disponible"},
}
# A language's name, as said in each agents' language.
LANGUAGE_NAMES = {
    "en": {"en": "English", "fr": "French"},
    "fr": {"en": "anglais", "fr": "français"},
}


def frames(lang: str) -> dict[str, str]:
    """The whisper's frames in `lang` (English for a language without its own)."""
    return FRAMES.get(lang, FRAMES["en"])


def language_name(caller_lang: str, agents_lang: str) -> str:
    """'French' for an English-speaking agent, 'français' for a French-speaking one."""
    return LANGUAGE_NAMES.get(agents_lang, LANGUAGE_NAMES["en"]).get(caller_lang, caller_lang)
