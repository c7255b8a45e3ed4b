"""Pure language understanding: grammars, intent matching, spoken numbers."""
