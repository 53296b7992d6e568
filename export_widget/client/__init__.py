"""The export client: the Labelbox export API over httpx."""
