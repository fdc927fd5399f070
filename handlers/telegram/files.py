"""Files volunteers send on Telegram, fetched only when they must cross to another platform."""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable

from telegram import Audio, Document, Message, PhotoSize, Video, Voice

from bot.channel import Media, MediaKind

# Telegram lets a bot download files of up to 20 MB; WhatsApp takes documents up to 100 MB,
# images up to 5 MB, audio and video up to 16 MB.
LIMIT = 20 * 1024 * 1024


def _guess(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def fetcher(message: Message) -> Callable[[], Awaitable[Media | None]] | None:
    """How to download the message's file (a photo at its largest, a document, a voice note,
    audio or video), which gives None for one too large to download; None for a message
    without one."""
    found: PhotoSize | Voice | Audio | Video | Document
    if message.photo:
        found, kind, mime, name = message.photo[-1], MediaKind.PHOTO, "image/jpeg", "photo.jpg"
    elif message.voice:
        found, kind, name = message.voice, MediaKind.VOICE, "voice.ogg"
        mime = message.voice.mime_type or "audio/ogg"
    elif message.audio:
        found, kind, name = message.audio, MediaKind.AUDIO, message.audio.file_name or "audio"
        mime = message.audio.mime_type or "audio/mpeg"
    elif message.video:
        found, kind, name = message.video, MediaKind.VIDEO, message.video.file_name or "video.mp4"
        mime = message.video.mime_type or "video/mp4"
    elif message.document:
        found, kind = message.document, MediaKind.DOCUMENT
        name = message.document.file_name or "file"
        mime = message.document.mime_type or _guess(name)
    else:
        return None

    async def fetch() -> Media | None:
        if found.file_size is not None and found.file_size > LIMIT:
            return None
        file = await message.get_bot().get_file(found.file_id)
        return Media(kind, bytes(await file.download_as_bytearray()), mime, name)

    return fetch
