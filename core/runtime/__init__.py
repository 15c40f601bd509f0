"""Runtime: the device, the model registry (``models``), one adapter per architecture family
(``adapters``), hosted-mode limits, user-facing errors and paths. Everything else builds on it."""
