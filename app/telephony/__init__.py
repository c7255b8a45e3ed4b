"""Twilio adapters: webhooks, Media Streams, TwiML, signatures, REST."""
