// Shapes shared with export_widget/messages.py. Declared once here, once in Python.
export {};
