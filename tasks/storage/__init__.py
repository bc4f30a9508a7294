"""Object storage: the project's default storage (local disk or S3, annotator/settings.py)
and the per-project bucket connections of tasks.services.storages.

``s3`` talks to a bucket with a connection's own credentials and turns every failure into a
StorageError with a message a person can act on; ``media`` names stored media in task data
and hands the browser short-lived presigned URLs for it."""
