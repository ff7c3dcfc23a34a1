"""history-gateway: one timeline of a customer's tickets and energy-contract events."""
