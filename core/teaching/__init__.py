"""Teaching: the presenter tour's steps (``tour``)."""
