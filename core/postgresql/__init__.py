"""The PostgreSQL backend of the platform: Django's, with timestamps read in C (``base.py``)."""
