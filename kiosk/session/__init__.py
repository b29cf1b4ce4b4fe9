"""The resident's session: its state machine (attract, home, flow, rating, end) and the flows
the home screen offers."""
