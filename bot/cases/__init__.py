"""Cases: opened from an intake, routed to a queue, claimed, followed and closed by volunteers."""
