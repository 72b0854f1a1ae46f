"""Messages: the one owner of the `messages` table and of the counters the
conversations keep of them (`message_count`, `last_message_preview`)."""
