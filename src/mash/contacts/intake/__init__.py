"""Police notifications arriving by hand (`manual`: the form) and by CSV (`upload`).

Both routes build a `police.NotificationEntry` and ask `police.check` and
`police.receive_notification`, so a notification typed, uploaded or sent by the
force's system meets the same rules and says the same thing when it does not.
"""
