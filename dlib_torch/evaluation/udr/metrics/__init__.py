"""The UDR score over several models' representations."""
