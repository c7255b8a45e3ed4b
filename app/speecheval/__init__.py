"""`ivr speech-eval`: labelled caller recordings played through the live call path, scored."""
