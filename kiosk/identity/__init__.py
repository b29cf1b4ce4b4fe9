"""The person in front of the terminal: the identity a card or code yields and the service that
asks for one when a flow needs it."""
