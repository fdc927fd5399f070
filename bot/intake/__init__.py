"""The intake: the flows as data and the engine that asks them, one answer at a time."""
