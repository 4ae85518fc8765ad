"""Long-lived app services: the phone session (store + identity) and the background sync."""
