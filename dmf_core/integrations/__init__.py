"""Bridges from DMF to other libraries' interfaces: `surprise`, DMF as a Surprise algorithm. Each is imported only when asked for (`import
dmf_core.integrations.surprise`), so the libraries they bridge to stay optional."""
