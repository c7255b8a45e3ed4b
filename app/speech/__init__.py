"""Speech adapters: recognizers (Vosk, PocketSphinx), synthesis, telephone audio."""
