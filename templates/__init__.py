"""Danish email templates (Jinja2) and their pure renderer."""
