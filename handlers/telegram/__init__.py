"""The Telegram adapter: PTB handlers, the Bot API request class, rendering, order, membership."""
