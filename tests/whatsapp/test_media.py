"""Files between a resident on WhatsApp and her volunteer on Telegram: photos, documents and
voice notes cross both ways, downloaded from one platform and uploaded to the other, a voice
note played as one on each side; captions go with them."""

from __future__ import annotations

from handlers.emulation.telegram import EmulatedBotAPI
from tests.transcript import Person
from tests.whatsapp.conftest import ROSA, RosasDesk, claims

VOICE = b"OggS\x00\x02rosa-voice-note"
PHOTO = b"\xff\xd8\xff\xe0rosa-photo"
WRITES = "SP-00001 · the resident writes:"


async def test_photos_documents_and_voice_notes_cross_both_ways(
    rosas_desk: RosasDesk, telegram: EmulatedBotAPI
) -> None:
    graph, vera = rosas_desk.graph, Person(telegram, 6601, "en")
    await claims(telegram, vera)
    await graph.next_message(ROSA)  # the news that her request was taken
    graph.push_text(ROSA, "Hello, here is the letter")
    await vera.hears(WRITES)
    await vera.hears("Hello, here is the letter")
    await graph.next_message(ROSA)  # "✓ Sent to the volunteer…"

    graph.push_voice(ROSA, VOICE)
    header = await vera.hears(WRITES)
    voice = await telegram.next_message(vera.chat_id)
    assert voice.kind == "voice" and voice.file is not None and voice.file.data == VOICE
    assert header.message_id < voice.message_id

    await graph.next_message(ROSA)
    graph.push_image(ROSA, PHOTO, caption="The eviction notice")
    await vera.hears(WRITES)
    photo = await telegram.next_message(vera.chat_id)
    assert photo.kind == "photo" and photo.file is not None and photo.file.data == PHOTO
    assert photo.caption == "The eviction notice"
    await graph.next_message(ROSA)

    graph.push_location(ROSA, 45.4642, 9.19, name="Via Padova 21")  # where she lives
    await vera.hears(WRITES)
    place = await vera.hears("📍 Via Padova 21")
    assert "openstreetmap.org/?mlat=45.464200&mlon=9.190000" in (place.text or "")
    await graph.next_message(ROSA)

    # Vera answers the voice note with hers, and sends a form to fill in.
    telegram.push_voice(vera.user, reply_to=voice, data=b"OggS\x00\x02vera")
    await vera.hears("✓ Sent to the resident of SP-00001.")
    told = await graph.next_message(ROSA)
    assert told.type == "text" and told.text == "Message from your volunteer (request SP-00001):"
    heard = await graph.next_message(ROSA)
    assert heard.type == "audio" and heard.payload["audio"].get("voice") is True
    assert heard.media_id is not None
    uploaded = graph.file(heard.media_id)
    assert uploaded is not None and uploaded.data == b"OggS\x00\x02vera"

    telegram.push_document(
        vera.user, reply_to=voice, file_name="form.pdf", data=b"%PDF-1.4 form", caption="Sign it"
    )
    await vera.hears("✓ Sent to the resident of SP-00001.")
    await graph.next_message(ROSA)  # the header
    form = await graph.next_message(ROSA)
    assert form.type == "document" and form.filename == "form.pdf" and form.text == "Sign it"
    assert form.media_id is not None
    sent = graph.file(form.media_id)
    assert sent is not None and sent.data == b"%PDF-1.4 form"


async def test_a_file_for_a_resident_whose_window_closed_is_asked_for_again_later(
    rosas_desk: RosasDesk, telegram: EmulatedBotAPI
) -> None:
    graph, vera = rosas_desk.graph, Person(telegram, 6602, "en")
    await claims(telegram, vera)
    await graph.next_message(ROSA)  # the news, as a template: she has not written for days
    details = telegram.chats[vera.chat_id][-1]
    telegram.push_photo(vera.user, caption="The form", reply_to=details)
    await vera.hears("Please send it again once they have written.")
    await graph.assert_no_message(ROSA, within=0.3)
