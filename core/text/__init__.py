"""Text: tokenizers, BPE replay, GloVe (``glove``), word2vec, contextual embeddings, positional
encodings, next-token generation, and the home page's one-sentence walkthrough (``pipeline``)."""
