"""Recipes: discovery, the two formats (raw), and rendering to typed `Recipe`s."""
