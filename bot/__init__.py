"""The composition root: settings, wiring, web server, scheduler and the ``buddybot`` CLI.

The only package that knows every other one; nothing else creates engines, clients or singletons.
"""
