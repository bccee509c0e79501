"""Load for the throughput run: signed-in people of many organisations, a page and API mix.

Sessions are created by the harness (programme managers and members need no second factor;
the harness logs them in directly, as a sign-in would) and passed in BENCH_LOAD_USERS.
Every answer but a 200 counts as an error, redirects included (a redirect to sign-in means
the session was refused).
"""

import json
import os
import random

from locust import FastHttpUser, constant, task

with open(os.environ["BENCH_LOAD_USERS"]) as handle:
    PEOPLE = json.load(handle)


class Person(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.person = random.choice(PEOPLE)
        self.headers = {"Cookie": f"{self.person['cookie']}={self.person['session']}"}

    def _get(self, url, name):
        with self.client.get(
            url, headers=self.headers, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

    @task(2)
    def dashboard(self):
        self._get("/", "dashboard")

    @task(4)
    def library(self):
        self._get("/resources/", "resource library")

    @task(2)
    def library_filtered(self):
        tlp = random.choice(["green", "amber", "amber_strict"])
        self._get(f"/resources/?tlp={tlp}", "resource library, filtered")

    @task(1)
    def library_page(self):
        self._get(f"/resources/?page={random.randint(2, 20)}", "resource library, page n")

    @task(2)
    def resource(self):
        if self.person["resources"]:
            pk = random.choice(self.person["resources"])
            self._get(f"/resources/{pk}/", "resource detail")

    @task(2)
    def agreements(self):
        self._get("/agreements/", "agreement list")

    @task(2)
    def projects(self):
        self._get("/projects/", "project list")

    @task(1)
    def project(self):
        if self.person["project"]:
            self._get(f"/projects/{self.person['project']}/", "project page")

    @task(2)
    def api_resources(self):
        self._get("/api/v1/resources/", "API resources")

    @task(1)
    def api_agreements(self):
        self._get("/api/v1/agreements/", "API agreements")

    @task(1)
    def api_projects(self):
        self._get("/api/v1/projects/", "API projects")
