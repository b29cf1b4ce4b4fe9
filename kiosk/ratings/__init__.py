"""好差评: the five levels and reasons, the full evaluation record with its sealed real-name part,
and the service that records first and supplementary evaluations through the outbox."""
