def test_pages_name_an_existing_icon(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon"' in page
    response = client.get("/static/img/icon.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    response.close()
