"""The demo: the help desk with the seed organisations' queues, people and activities."""
