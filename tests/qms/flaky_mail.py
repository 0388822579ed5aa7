"""An e-mail backend that stands in for an SMTP server that fails: the first FAILURES[0] sends
raise as a refused connection would, then it records like Django's locmem backend."""

import smtplib

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

FAILURES = [0]


class FlakyBackend(LocmemBackend):
    def send_messages(self, messages):
        if FAILURES[0] > 0:
            FAILURES[0] -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)
