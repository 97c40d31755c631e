"""Mail transports: file, SMTP, Exchange (EWS) and Microsoft Graph."""
