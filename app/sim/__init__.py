"""The local call simulator: plays Twilio's part in-process or over HTTP and websocket."""
