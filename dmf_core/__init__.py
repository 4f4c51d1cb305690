"""dmf_core: Deep Matrix Factorisation (DMF) and its discrete variant DMF-D, after Nguyen, Tsiligianni and
Deligiannis, "Matrix Factorization via Deep Learning". Importable and testable without Streamlit."""

__version__ = "0.1.0"
