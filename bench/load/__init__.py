"""Protocol-level load: Streamlit sessions driven over /_stcore/stream without a browser."""
