# The hall for compose.yaml: MasterHall from this checkout (its embedded models come with it;
# in compose the hall talks to the llama.cpp server instead).
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .
EXPOSE 8042
CMD ["masterhall", "serve", "--host", "0.0.0.0"]
