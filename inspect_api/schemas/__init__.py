"""marshmallow schemas. Request schemas reject unknown fields (marshmallow's default RAISE)."""
