"""Activities: schedules, sign-ups and waiting lists, the residents' agenda, the organisers."""
