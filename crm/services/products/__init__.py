"""The product shelf: the products the bank sells, kept by admins as data."""
