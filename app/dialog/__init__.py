"""The pure dialog core: call state, events, actions and the flow that maps one to the other."""
