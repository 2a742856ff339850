// A Beast WebSocket client for tsbeast's peer specs (spec/peers/beast.spec.ts). Built with Debian's
// Boost by the spec setup:
//
//   g++ -std=c++17 -O1 -pthread echo_client.cpp -o beast_echo_client
//
//   beast_echo_client <port>
//
// Connects to 127.0.0.1:<port>, runs the client handshake (prints "open"), then runs one command
// per line of stdin:
//
//   text <string>            writes a text message
//   gen text|binary <n> <s>  writes an n-byte message of the pattern seeded by s (see below)
//   frag <part>...           writes one text message as one frame per part (write_some)
//   ping <data>              sends a ping
//   read                     reads a message: "message text|binary <size> <fnv1a-32 hex> <text>"
//                            (the text only for text messages of at most 64 bytes)
//   close <code> <reason>    runs the closing handshake, then reports "end close ..."
//   readend                  reads until an error, then reports "end read ..."
//
// Patterns: binary byte i is (i * 31 + s) & 255; text byte i is 'a' + (i * 7 + s) % 26.
// Errors and the end print "end <stage> <category> <value> <code> <reason...>" (as the server);
// control frames print "control <kind> <data>". Exits after an "end" line or stdin's end.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string describe(beast::error_code const& ec)
{
    if(! ec)
        return "- 0";
    return std::string(ec.category().name()) + " " + std::to_string(ec.value());
}

std::string kind_name(websocket::frame_type kind)
{
    switch(kind)
    {
    case websocket::frame_type::close: return "close";
    case websocket::frame_type::ping: return "ping";
    case websocket::frame_type::pong: return "pong";
    }
    return "?";
}

std::string fnv1a(std::string const& bytes)
{
    std::uint32_t h = 0x811c9dc5u;
    for(unsigned char c : bytes)
    {
        h ^= c;
        h *= 16777619u;
    }
    char out[9];
    std::snprintf(out, sizeof(out), "%08x", h);
    return out;
}

std::string pattern(bool binary, std::size_t n, unsigned seed)
{
    std::string s(n, '\0');
    for(std::size_t i = 0; i < n; ++i)
        s[i] = binary
            ? static_cast<char>((i * 31 + seed) & 255)
            : static_cast<char>('a' + (i * 7 + seed) % 26);
    return s;
}

int end(char const* stage, beast::error_code const& ec, websocket::stream<tcp::socket> const& ws)
{
    auto const& cr = ws.reason();
    std::cout << "end " << stage << " " << describe(ec) << " " << cr.code << " "
              << std::string(cr.reason.data(), cr.reason.size()) << std::endl;
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if(argc != 2)
    {
        std::cerr << "usage: beast_echo_client <port>\n";
        return 2;
    }
    auto const port = static_cast<unsigned short>(std::atoi(argv[1]));
    net::io_context ioc;
    websocket::stream<tcp::socket> ws(ioc);
    beast::error_code ec;
    ws.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if(ec)
        return end("connect", ec, ws);
    ws.control_callback(
        [](websocket::frame_type kind, beast::string_view data)
        {
            std::cout << "control " << kind_name(kind) << " " << std::string(data.data(), data.size()) << std::endl;
        });
    ws.read_message_max(64 * 1024 * 1024);
    ws.handshake("127.0.0.1:" + std::to_string(port), "/", ec);
    if(ec)
        return end("handshake", ec, ws);
    std::cout << "open" << std::endl;

    beast::flat_buffer b;
    std::string line;
    while(std::getline(std::cin, line))
    {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        std::string rest;
        std::getline(in, rest);
        if(! rest.empty() && rest[0] == ' ')
            rest.erase(0, 1);
        if(cmd == "text")
        {
            ws.text(true);
            ws.write(net::buffer(rest), ec);
            if(ec)
                return end("write", ec, ws);
        }
        else if(cmd == "gen")
        {
            std::istringstream args(rest);
            std::string kind;
            std::size_t n = 0;
            unsigned seed = 0;
            args >> kind >> n >> seed;
            auto const data = pattern(kind == "binary", n, seed);
            ws.binary(kind == "binary");
            ws.write(net::buffer(data), ec);
            if(ec)
                return end("write", ec, ws);
        }
        else if(cmd == "frag")
        {
            std::istringstream args(rest);
            std::vector<std::string> parts;
            for(std::string p; args >> p;)
                parts.push_back(p);
            ws.text(true);
            for(std::size_t i = 0; i < parts.size(); ++i)
            {
                ws.write_some(i + 1 == parts.size(), net::buffer(parts[i]), ec);
                if(ec)
                    return end("write", ec, ws);
            }
        }
        else if(cmd == "ping")
        {
            ws.ping(websocket::ping_data(rest.c_str()), ec);
            if(ec)
                return end("ping", ec, ws);
        }
        else if(cmd == "read")
        {
            ws.read(b, ec);
            if(ec)
                return end("read", ec, ws);
            auto const data = beast::buffers_to_string(b.data());
            b.consume(b.size());
            std::cout << "message " << (ws.got_text() ? "text" : "binary") << " " << data.size() << " "
                      << fnv1a(data) << " " << (ws.got_text() && data.size() <= 64 ? data : "") << std::endl;
        }
        else if(cmd == "close")
        {
            std::istringstream args(rest);
            unsigned code = 0;
            args >> code;
            std::string reason;
            std::getline(args, reason);
            if(! reason.empty() && reason[0] == ' ')
                reason.erase(0, 1);
            ws.close(websocket::close_reason(static_cast<websocket::close_code>(code), reason.c_str()), ec);
            return end("close", ec, ws);
        }
        else if(cmd == "readend")
        {
            for(;;)
            {
                ws.read(b, ec);
                if(ec)
                    return end("read", ec, ws);
                b.consume(b.size());
            }
        }
        else
        {
            std::cerr << "unknown command: " << line << std::endl;
            return 2;
        }
    }
    return 0;
}
