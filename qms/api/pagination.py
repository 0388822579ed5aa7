from rest_framework import pagination

from qms.pagination import COUNT_EXACT_UP_TO, BoundedCountPaginator


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M` (at most 200). `count` is exact up to 10,000 matches and the
    database's estimate beyond (qms.pagination); `count_is_estimate` says which."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = BoundedCountPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_is_estimate"] = self.page.paginator.count_is_estimate
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": f"count is the database's estimate (more than {COUNT_EXACT_UP_TO:,} match)",
        }
        return schema
